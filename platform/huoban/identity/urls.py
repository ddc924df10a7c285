from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django_ratelimit.decorators import ratelimit

from huoban.identity import views

app_name = "identity"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("signup/", views.signup_view, name="signup"),
    path("two-factor/", views.two_factor_view, name="two_factor"),
    path("two-factor/verify/", views.two_factor_verify_view, name="two_factor_verify"),
    path("verify-email/<str:token>/", views.verify_email_view, name="verify_email"),
    path("verify-email-resend/", views.resend_verification_view, name="verify_email_resend"),
    path("profile/", views.profile_view, name="profile"),
    path("erase/", views.erase_account_view, name="erase"),
    path("tokens/", views.token_create_view, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("organisations/new/", views.organisation_create_view, name="organisation_create"),
    path("organisations/<int:pk>/", views.organisation_view, name="organisation"),
    path(
        "password-reset/",
        # each request mails someone: limited per client and per address asked for
        ratelimit(key="ip", rate=settings.HUOBAN_PASSWORD_RESET_RATE, method="POST", block=True)(
            ratelimit(key="post:email", rate=settings.HUOBAN_PASSWORD_RESET_RATE, method="POST", block=True)(
                auth_views.PasswordResetView.as_view(
                    template_name="identity/password_reset_form.html",
                    email_template_name="identity/email/password_reset.txt",
                    subject_template_name="identity/email/password_reset_subject.txt",
                    success_url=reverse_lazy("identity:password_reset_done"),
                )
            )
        ),
        name="password_reset",
    ),
    path("password-reset/mobile/", views.password_reset_mobile_view, name="password_reset_mobile"),
    path("password-reset/mobile/code/", views.password_reset_mobile_code_view, name="password_reset_mobile_code"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="identity/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="identity/password_reset_confirm.html",
            success_url=reverse_lazy("identity:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="identity/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]
