"""Job engines between the hook and the operators: what a task does with many requests.

The batch (input, prompts, runner, checkpoint, output), the knowledge sync (source, plan, manifest, sync),
file sources for uploads, the one poll loop shared by operators, sensors and triggers, and what a task
remembers across its retries. Engines drive :class:`~raia_provider.hooks.raia.RaiaHook`; operators, sensors
and triggers drive engines. Nothing here imports ``operators``, ``sensors`` or ``triggers``, and nothing below
the hook imports this package (``tests/unit/test_layers.py``).
"""
