from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "geopera_web.events"
    label = "events"
    verbose_name = "Events (outbox)"
