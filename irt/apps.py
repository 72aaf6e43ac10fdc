# The module is imported, not the class, so Django does not take AdminConfig for ``irt``'s own config.
from django.contrib.admin import apps as admin_apps


class IRTAdminConfig(admin_apps.AdminConfig):
    default = False  # not the config of the ``irt`` app itself
    default_site = "irt.adminsite.IRTAdminSite"
