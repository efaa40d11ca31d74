"""Pydantic v2 models mirroring raia's request and response bodies (field aliases are raia's names).

Import from the submodules (``raia_provider.models.prompts``...); nothing is re-exported here so that
importing one model does not import them all.
"""
