from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "hubs.projects"
    label = "projects"
    verbose_name = _("项目执行")

    def ready(self) -> None:
        from hubs.projects.discovery import (
            FUNDED_KIND,
            SEEKING_KIND,
            public_funded_projects,
            public_seeking_projects,
        )
        from huoban.discovery import registry

        registry.register(SEEKING_KIND, public_seeking_projects)
        registry.register(FUNDED_KIND, public_funded_projects)
