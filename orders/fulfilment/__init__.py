"""Fulfilment: one adapter protocol and one registry for every provider, the simulator, delivery
batches and delivered captures (archive and tasking alike), manual recording, and the STAC assets
built from those rows."""
