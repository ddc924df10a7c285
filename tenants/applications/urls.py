from django.urls import path

from tenants.applications import views

urlpatterns = [path("", views.my_applications, name="my-applications")]
