"""Pages of the tasking app, by concern: `requests` (tasking list, request page), `inbox` (the
unified decisions inbox), `support` (the support desk), `library` (the template library)."""
