from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "geopera_web.events"
    label = "events"
    verbose_name = "Events (outbox)"

    def ready(self) -> None:
        from .notifications import _consumer as notifications_consumer
        from .services import register_batch_consumer
        from .webhooks import _consumer as webhooks_consumer

        register_batch_consumer("webhooks", webhooks_consumer)
        register_batch_consumer("notifications", notifications_consumer)

        from geopera_web.ops.sweeper import register_sweep

        from .notifications import sweep_unnotified

        register_sweep("event notifications", sweep_unnotified)

        from geopera_web.accounts.navigation import register_badge
        from geopera_web.demo import register_seeder

        from .demo import seed_events

        register_seeder(order=95, name="events", seeder=seed_events)

        register_badge("notifications", _bell_count, counts=_bell_unread)


def _bell_count(request) -> int:
    from .notifications import unread_count

    return unread_count(user=request.user, org=request.org)


def _bell_unread(request):
    from .notifications import feed

    return feed(user=request.user, org=request.org, unread_only=True)
