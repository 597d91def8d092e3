"""The subscriber's pages.  Each view reads its input, calls one service, renders the result.

Signing in, the session's expiry and must-change-password are handled by
``subscriber_page``; a service's ``NotFound`` (someone else's statement, call
or inquiry, or no such id) becomes a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from denwa.portal import accounts, exports, services, session
from denwa.portal.conf import portal_settings
from denwa.portal.errors import (
    BadFilter,
    NotFound,
    NumberLocked,
    PasswordRejected,
    PortalError,
    SignInFailed,
    SourceThrottled,
)
from denwa.portal.forms import InquiryForm, PasswordForm, SignInForm
from denwa.portal.models import WebAccount
from denwa.support import services as support

Page = Callable[..., HttpResponse]


def page(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render a portal template with what every page shows (service name, who is signed in)."""
    context = {"service_name": portal_settings().service_name, **context}
    return render(request, f"portal/{template}", context, status=status)


def subscriber_page(view: Page, *, before_own_password: bool = False) -> Page:
    """Only for a signed-in subscriber (else to the sign-in page); the account is passed on.

    Until the subscriber has replaced the password the operator issued, every
    page but the one marked ``before_own_password`` leads to the password page.
    """

    @wraps(view)
    @never_cache
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account, expired = session.current(request)
        if account is None:
            if expired:
                messages.info(request, _("You were signed out. Please sign in again."))
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('portal:login')}?{query}")
        if account.must_change and not before_own_password:
            messages.info(request, _("Please choose your own password first."))
            return redirect("portal:password")
        try:
            return view(request, account, *args, **kwargs)
        except NotFound:
            raise Http404 from None

    return wrapped


def client_address(request: HttpRequest) -> str:
    """The address a request came from (the socket's, never a header a client can forge)."""
    return str(request.META.get("REMOTE_ADDR") or "0.0.0.0")


SIGN_IN_REFUSALS: dict[str, Any] = {
    SignInFailed.code: gettext_lazy("The 050 number or the password is wrong."),
    NumberLocked.code: gettext_lazy(
        "The password was wrong too many times. Signing in with this number is "
        "locked until %(time)s. If you have forgotten the password, please ask the "
        "support desk for a new one."
    ),
    SourceThrottled.code: gettext_lazy(
        "Too many failed sign-ins from your connection. Please try again after %(time)s."
    ),
}
"""What the sign-in page says for each refusal (by the error's code)."""


def sign_in_refusal(error: PortalError) -> str:
    """What the sign-in page says for a refusal (the time a lock ends, if it has one)."""
    until = getattr(error, "until", None)
    time = date_format(localtime(until), "H:i") if until is not None else ""
    return str(SIGN_IN_REFUSALS.get(error.code, error.message)) % {"time": time}


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """The sign-in page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = ""
    form = SignInForm(request.POST or None)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        try:
            account = accounts.sign_in(
                form.cleaned_data["number"], form.cleaned_data["password"], client_address(request)
            )
        except (SignInFailed, NumberLocked, SourceThrottled) as error:
            refusal = sign_in_refusal(error)
        else:
            session.begin(request, account)
            if account.must_change:
                return redirect("portal:password")
            return HttpResponseRedirect(target or reverse("portal:overview"))
    return page(request, "login.html", {"form": form, "refusal": refusal, "next": target})


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Sign out (POST only, with the CSRF token)."""
    session.end(request)
    messages.info(request, _("You have signed out."))
    return redirect("portal:login")


@partial(subscriber_page, before_own_password=True)
@require_http_methods(["GET", "POST"])
def change_password(request: HttpRequest, account: WebAccount) -> HttpResponse:
    """Change the web password (the first one, issued by the operator, must be changed)."""
    form = PasswordForm(request.POST or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = accounts.change_password(
                account.pk, data["current"], data["new"], data["again"]
            )
        except PasswordRejected as error:
            problems = error.problems
        else:
            session.keep_after_password_change(request, changed)
            messages.success(request, _("Your password has been changed."))
            return redirect("portal:overview")
    return page(
        request,
        "password.html",
        {"form": form, "problems": problems, "account": account, "first": account.must_change},
    )


@subscriber_page
def overview(request: HttpRequest, account: WebAccount) -> HttpResponse:
    """ご利用状況: this month so far, the latest statement, the 12-month chart."""
    return page(
        request,
        "overview.html",
        {"account": account, "view": services.overview(account.contract)},
    )


@subscriber_page
def statements(request: HttpRequest, account: WebAccount) -> HttpResponse:
    """ご請求明細: the statements by month."""
    return page(
        request,
        "statements.html",
        {"account": account, "statements": services.statements_of(account.contract)},
    )


@subscriber_page
def statement(request: HttpRequest, account: WebAccount, pk: int) -> HttpResponse:
    """One statement, line by line."""
    return page(
        request,
        "statement.html",
        {"account": account, "detail": services.statement_detail(account.contract, pk)},
    )


def download(file: exports.CsvFile) -> HttpResponse:
    """A CSV file as an attachment."""
    response = HttpResponse(file.content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    return response


@subscriber_page
def statement_csv(request: HttpRequest, account: WebAccount, pk: int) -> HttpResponse:
    """One statement as CSV."""
    return download(exports.statement_csv(account.contract, pk))


def _mask(request: HttpRequest) -> bool:
    return request.GET.get("mask") == "1"


@subscriber_page
def calls(request: HttpRequest, account: WebAccount) -> HttpResponse:
    """通話明細: a month's calls, by class, a page at a time."""
    get = request.GET
    try:
        found = services.call_page(
            account.contract, get.get("month"), get.get("class"), get.get("page"), _mask(request)
        )
    except BadFilter as error:
        return page(request, "calls.html", {"account": account, "error": error.message}, status=400)
    return page(request, "calls.html", {"account": account, "calls": found})


@subscriber_page
def calls_csv(request: HttpRequest, account: WebAccount) -> HttpResponse:
    """The calls the filter selects, every page, as CSV."""
    get = request.GET
    try:
        file = exports.calls_csv(
            account.contract, get.get("month"), get.get("class"), _mask(request)
        )
    except BadFilter as error:
        return HttpResponse(error.message, status=400, content_type="text/plain; charset=utf-8")
    return download(file)


@subscriber_page
def call(request: HttpRequest, account: WebAccount, pk: int) -> HttpResponse:
    """One call and how its charge was reached."""
    return page(
        request,
        "call.html",
        {"account": account, "call": services.call_detail(account.contract, pk, _mask(request))},
    )


@subscriber_page
@require_http_methods(["GET", "POST"])
def support_desk(request: HttpRequest, account: WebAccount) -> HttpResponse:
    """お問い合わせ: the form and the subscriber's inquiries with the replies."""
    form = InquiryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        inquiry = support.submit_inquiry(
            account.contract, form.cleaned_data["subject"], form.cleaned_data["body"]
        )
        messages.success(request, _("Thank you. We have received your inquiry."))
        return redirect("portal:inquiry", pk=inquiry.pk)
    return page(
        request,
        "support.html",
        {"account": account, "form": form, "inquiries": services.inquiries_of(account.contract)},
    )


@subscriber_page
def inquiry(request: HttpRequest, account: WebAccount, pk: int) -> HttpResponse:
    """One inquiry with the operator's replies."""
    return page(
        request,
        "inquiry.html",
        {"account": account, "inquiry": services.inquiry_of(account.contract, pk)},
    )


@subscriber_page
def privacy(request: HttpRequest, account: WebAccount) -> HttpResponse:
    """個人情報の提供記録: to whom the subscriber's data was given, what, when, why."""
    return page(
        request,
        "privacy.html",
        {"account": account, "provisions": services.provisions_of(account.contract)},
    )


def home(request: HttpRequest) -> HttpResponse:
    """The site's root: the subscriber's page."""
    return redirect("portal:overview")
