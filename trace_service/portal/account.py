"""Signing in and out of the portal, and changing one's password.

A form refused for what was typed comes back as a page (200) with the message beside the
field; only a throttled sign-in answers 429 (with ``Retry-After``).

Sign-in goes through the same throttle as the API (``auth.signin``): 10 failures for an
account within 15 minutes, then waits that double; every failure audited. It runs before
the request opens its own database session (on SQLite a page that writes holds the write
lock from its first query, and the failure's audit row has a unit of work of its own).
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from trace_service.auth.models import User
from trace_service.auth.services import change_own_password, principal_of
from trace_service.auth.signin import sign_in_with_password
from trace_service.auth.web_session import sign_in_session, sign_out_session
from trace_service.db import get_session
from trace_service.errors import DomainError, NotAuthenticated
from trace_service.portal.access import home_url, page_roles, safe_next
from trace_service.portal.forms import PasswordForm, SignInForm, show_refusal
from trace_service.principal import ALL_ROLES, Role, current_principal
from trace_service.ratelimit import TooManyRequests, client_address
from trace_service.web.i18n import t

account = Blueprint("account", __name__, template_folder="templates")
Page = str | Response | tuple[str, int] | tuple[str, int, dict[str, str]]


@account.route("/dang-nhap", methods=["GET", "POST"])
def sign_in() -> Page:
    principal = current_principal()
    target = safe_next(request.args.get("next"))
    if not principal.is_anonymous and request.method == "GET":
        return redirect(target or home_url(principal))
    form = SignInForm()
    if not form.validate_on_submit():
        return render_template("portal/sign_in.html", form=form)
    try:
        user_id = sign_in_with_password(
            form.username.data.strip(), form.password.data, client_address()
        )
    except TooManyRequests as refused:
        form.form_errors.append(t(refused.message, refused.message_en))
        wait = {"Retry-After": str(refused.retry_after)}
        return render_template("portal/sign_in.html", form=form), 429, wait
    except NotAuthenticated as refused:
        show_refusal(form, refused, fallback="password")
        return render_template("portal/sign_in.html", form=form)
    user = get_session().get_one(User, user_id)
    sign_in_session(user)
    return redirect(target or home_url(principal_of(user)))


@account.route("/dang-xuat", methods=["POST"])
def sign_out() -> Response:
    sign_out_session()
    return redirect(url_for("account.sign_in"))


@account.route("/tai-khoan/mat-khau", methods=["GET", "POST"])
@page_roles(*ALL_ROLES)
def change_password() -> Page:
    principal = current_principal()
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            sign_in_with_password(principal.name, form.current.data, client_address())
        except (NotAuthenticated, TooManyRequests) as refused:
            show_refusal(form, refused, fallback="current")
            return render_template("portal/password.html", form=form)
        try:
            user = change_own_password(get_session(), principal, form.new.data)
        except DomainError as refused:
            show_refusal(form, refused, fallback="new", names={"password": "new"})
            return render_template("portal/password.html", form=form)
        sign_in_session(user)  # this browser stays signed in; every other session ends
        return render_template("portal/password_changed.html")
    return render_template("portal/password.html", form=form)


@account.route("/kiem-tra-vien/tai-khoan")
@page_roles(Role.INSPECTOR)
def inspector_home() -> str:
    return render_template("portal/inspector_home.html")
