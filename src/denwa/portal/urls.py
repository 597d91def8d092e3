"""The subscriber's pages under /my/."""

from django.urls import path

from denwa.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("login/", views.sign_in, name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("password/", views.change_password, name="password"),
    path("statements/", views.statements, name="statements"),
    path("statements/<int:pk>/", views.statement, name="statement"),
    path("statements/<int:pk>/csv/", views.statement_csv, name="statement-csv"),
    path("calls/", views.calls, name="calls"),
    path("calls/csv/", views.calls_csv, name="calls-csv"),
    path("calls/<int:pk>/", views.call, name="call"),
    path("support/", views.support_desk, name="support"),
    path("support/<int:pk>/", views.inquiry, name="inquiry"),
    path("privacy/", views.privacy, name="privacy"),
]
