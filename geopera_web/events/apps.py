from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "geopera_web.events"
    label = "events"
    verbose_name = "Events (outbox)"

    def ready(self) -> None:
        from .services import register_consumer
        from .webhooks import _consumer

        register_consumer("webhooks", _consumer)
