"""Pages of the public site for accounts: sign-in (with optional TOTP), sign-up, profile, organisations, tokens."""

from __future__ import annotations

import base64
from io import BytesIO

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_ratelimit.decorators import ratelimit

from huoban.errors import ApplicationError
from huoban.identity import selectors, services
from huoban.identity.forms import (
    LoginForm,
    MobileResetForm,
    MobileResetRequestForm,
    OrganisationEditForm,
    OrganisationForm,
    OtpForm,
    ProfileForm,
    SignupForm,
    TokenForm,
)
from huoban.identity.models import ApiToken, OrganisationMember, User
from huoban.identity.tasks import email_verification_send
from huoban.tasks import enqueue_on_commit
from huoban.web.forms import form_apply_error

PENDING_2FA_KEY = "huoban_pending_2fa_user"
RESET_MOBILE_KEY = "huoban_password_reset_mobile"


def safe_next(request: HttpRequest, default: str = "/") -> str:
    """Only redirect to the public site or one of its hub hosts (never to another site)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    base = settings.HUOBAN_BASE_DOMAIN
    host = target.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0] if "//" in target else ""
    allowed = {request.get_host()}
    if host == base or host.endswith("." + base):
        allowed.add(target.split("//", 1)[-1].split("/", 1)[0])
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts=allowed):
        return target
    return default


def _device_for(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@ratelimit(key="ip", rate=settings.HUOBAN_LOGIN_RATE, method="POST", block=True)
@ratelimit(key="post:login", rate=settings.HUOBAN_LOGIN_RATE, method="POST", block=True)
def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, username=form.cleaned_data["login"], password=form.cleaned_data["password"])
        if user is None:
            form.add_error(None, _("账号或密码不正确。"))
        elif _device_for(user) is not None:
            request.session[PENDING_2FA_KEY] = user.pk
            return redirect(f"{reverse('identity:two_factor_verify')}?next={safe_next(request)}")
        else:
            login(request, user)
            return HttpResponseRedirect(safe_next(request, "/"))
    return render(request, "identity/login.html", {"form": form, "next": safe_next(request, "")})


@ratelimit(key="ip", rate=settings.HUOBAN_LOGIN_RATE, method="POST", block=True)
def two_factor_verify_view(request: HttpRequest) -> HttpResponse:
    """Second step of sign-in for accounts with an authenticator app."""
    user_id = request.session.get(PENDING_2FA_KEY)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None:
        return redirect("identity:login")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = _device_for(user)
        if device is not None and device.verify_token(form.cleaned_data["code"].strip()):
            del request.session[PENDING_2FA_KEY]
            login(request, user, backend="huoban.identity.backends.EmailOrMobileBackend")
            otp_login(request, device)
            return HttpResponseRedirect(safe_next(request, "/"))
        form.add_error("code", _("验证码不正确或已过期。"))
    return render(request, "identity/two_factor_verify.html", {"form": form, "next": safe_next(request, "")})


@login_required
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app, or confirm the session with it when a page requires two-factor."""
    user: User = request.user  # type: ignore[assignment]
    device = _device_for(user)
    form = OtpForm(request.POST or None)
    if device is not None:
        if request.method == "POST" and form.is_valid():
            if device.verify_token(form.cleaned_data["code"].strip()):
                otp_login(request, device)
                return HttpResponseRedirect(safe_next(request, reverse("identity:profile")))
            form.add_error("code", _("验证码不正确或已过期。"))
        return render(request, "identity/two_factor_verify.html", {"form": form, "next": safe_next(request, "")})
    pending, _created = TOTPDevice.objects.get_or_create(user=user, confirmed=False, defaults={"name": "authenticator"})
    if request.method == "POST" and form.is_valid():
        if pending.verify_token(form.cleaned_data["code"].strip()):
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            otp_login(request, pending)
            from huoban.audit.services import audit_record

            audit_record(actor=user, action="identity.user.two_factor_enabled", obj=user)
            messages.success(request, _("两步验证已开启。"))
            return HttpResponseRedirect(safe_next(request, reverse("identity:profile")))
        form.add_error("code", _("验证码不正确，请确认手机时间准确后重试。"))
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(pending.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = BytesIO()
    image.save(buffer)
    qr = "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
    secret = base64.b32encode(pending.bin_key).decode()
    return render(
        request,
        "identity/two_factor_setup.html",
        {"form": form, "qr": qr, "secret": secret, "next": safe_next(request, "")},
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("/")


@ratelimit(key="ip", rate="20/h", method="POST", block=True)
def signup_view(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(**form.cleaned_data)
        except ApplicationError as exc:
            form_apply_error(form, exc)
        else:
            if user.email:
                enqueue_on_commit(email_verification_send, user_id=user.pk, language=request.LANGUAGE_CODE)
            login(request, user, backend="huoban.identity.backends.EmailOrMobileBackend")
            messages.success(request, _("欢迎加入伙伴！"))
            return HttpResponseRedirect(safe_next(request, reverse("identity:profile")))
    return render(request, "identity/signup.html", {"form": form, "next": safe_next(request, "")})


# Each request texts someone: limited per client and per number asked for, as the e-mail reset is.
@ratelimit(key="ip", rate=settings.HUOBAN_PASSWORD_RESET_RATE, method="POST", block=True)
@ratelimit(key="post:mobile", rate=settings.HUOBAN_PASSWORD_RESET_RATE, method="POST", block=True)
def password_reset_mobile_view(request: HttpRequest) -> HttpResponse:
    """Accounts that sign in with a mobile number: ask for a code by SMS. The answer is the same whether or not
    the number has an account."""
    form = MobileResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mobile = services.password_reset_code_send(mobile=form.cleaned_data["mobile"])
        except ApplicationError as exc:
            form_apply_error(form, exc)
        else:
            request.session[RESET_MOBILE_KEY] = mobile
            messages.info(request, _("如果该手机号已注册，验证码已通过短信发出。"))
            return redirect("identity:password_reset_mobile_code")
    return render(request, "identity/password_reset_mobile.html", {"form": form})


@ratelimit(key="ip", rate=settings.HUOBAN_LOGIN_RATE, method="POST", block=True)
def password_reset_mobile_code_view(request: HttpRequest) -> HttpResponse:
    """The code from the SMS and a new password."""
    mobile = request.session.get(RESET_MOBILE_KEY)
    if not mobile:
        return redirect("identity:password_reset_mobile")
    form = MobileResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_reset_with_code(
                mobile=mobile, code=form.cleaned_data["code"], password=form.cleaned_data["password"]
            )
        except ApplicationError as exc:
            form_apply_error(form, exc)
        else:
            del request.session[RESET_MOBILE_KEY]
            messages.success(request, _("密码已重设，请用新密码登录。"))
            return redirect("identity:login")
    masked = f"{mobile[:3]}****{mobile[-4:]}"
    return render(request, "identity/password_reset_mobile_code.html", {"form": form, "mobile": masked})


def verify_email_view(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.user_email_verify(token=token)
    except ApplicationError as exc:
        return render(request, "web/message.html", {"title": _("邮箱验证"), "message": exc.message}, status=400)
    return render(request, "web/message.html", {"title": _("邮箱验证"), "message": _("邮箱已验证，谢谢！")})


@login_required
@require_POST
def resend_verification_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if user.email and not user.email_verified_at:
        email_verification_send.delay(user_id=user.pk, language=request.LANGUAGE_CODE)
        messages.info(request, _("验证邮件已发送。"))
    return redirect("identity:profile")


@login_required
@ratelimit(key="user", rate=settings.HUOBAN_LOGIN_RATE, method="POST", block=True)
def erase_account_view(request: HttpRequest) -> HttpResponse:
    """The person erases their own account (PIPL): confirmed with the password; memberships, tokens and personal
    data go everywhere (``huoban.identity.erasure``); the person is signed out."""
    from huoban.identity.erasure import person_erase
    from huoban.identity.forms import EraseAccountForm

    user: User = request.user  # type: ignore[assignment]
    form = EraseAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not user.check_password(form.cleaned_data["password"]):
            form.add_error("password", _("密码不正确。"))
        else:
            try:
                person_erase(user=user, actor=user, reason="本人申请注销 / requested by the person")
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                logout(request)
                return render(
                    request,
                    "web/message.html",
                    {"title": _("账号已注销"), "message": _("您的账号和个人信息已删除。感谢您曾参与公益。")},
                )
    return render(request, "identity/erase.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = ProfileForm(request.POST or None, initial={"name": user.name, "preferred_language": user.preferred_language})
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(user=user, **form.cleaned_data)
        except ApplicationError as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("已保存。"))
            response = redirect("identity:profile")
            if form.cleaned_data["preferred_language"]:
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    form.cleaned_data["preferred_language"],
                    domain=settings.LANGUAGE_COOKIE_DOMAIN,
                    samesite="Lax",
                    max_age=365 * 24 * 3600,
                )
            return response
    context = {
        "form": form,
        "organisations": selectors.user_organisations(user=user),
        # The hubs come through the reverse relation of tenants.HubAccess: identity does not import tenants.
        "hubs": user.hub_accesses.select_related("hub").order_by("hub__slug"),
        "tokens": ApiToken.objects.filter(user=user),
        "token_form": TokenForm(),
        "has_2fa": _device_for(user) is not None,
        "new_secret": request.session.pop("huoban_new_token", None),
    }
    return render(request, "identity/profile.html", context)


@login_required
@require_POST
def token_create_view(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if form.is_valid():
        try:
            issued = services.api_token_create(user=request.user, name=form.cleaned_data["name"])  # type: ignore[arg-type]
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            request.session["huoban_new_token"] = issued.secret
    else:
        messages.error(request, _("请为令牌命名。"))
    return redirect("identity:profile")


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user_id=request.user.pk)
    services.api_token_revoke(token=token, actor=request.user)  # type: ignore[arg-type]
    messages.success(request, _("令牌已撤销。"))
    return redirect("identity:profile")


@login_required
def organisation_create_view(request: HttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organisation_create(creator=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except ApplicationError as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("组织已登记。"))
            return redirect("identity:organisation", pk=org.pk)
    return render(request, "identity/organisation_form.html", {"form": form, "creating": True})


@login_required
def organisation_view(request: HttpRequest, pk: int) -> HttpResponse:
    org = selectors.organisation_for_member(user=request.user, organisation_id=pk)  # type: ignore[arg-type]
    if org is None:
        raise Http404
    member = OrganisationMember.objects.get(organisation=org, user_id=request.user.pk)  # type: ignore[misc]
    form = None
    if member.can_manage:
        initial = {f: getattr(org, f) for f in services.ORGANISATION_EDITABLE}
        form = OrganisationEditForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.organisation_update(organisation=org, actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
            except ApplicationError as exc:
                form_apply_error(form, exc)
            else:
                messages.success(request, _("已保存。"))
                return redirect("identity:organisation", pk=org.pk)
    elif request.method == "POST":
        return HttpResponse(status=403)
    members = org.members.select_related("user").order_by("created_at")
    return render(
        request, "identity/organisation.html", {"org": org, "form": form, "members": members, "member": member}
    )
