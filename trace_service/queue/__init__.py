"""The job queue's jobs, workers and dead letters (RQ over Redis, when ``OCOP_REDIS_URL`` is
set); ``trace_service.jobqueue`` is the part every layer may use."""
