"""Consumer reports: what a shopper tells the province OCOP office about a stamp or product
(a fake, an expired certificate still sold, a quality problem), recorded with the stamp's
code and the verdict the page showed; listed and closed by the office through the API."""
