"""Who may see and act on what: the one place access is decided, split by job.

- ``permissions``: yes/no questions about a user and a case (imports no models);
- ``querysets``: the rows a user may know about (cases, customer incidents, case-linked rows);
- ``grants``: customer organisations' object permissions on incident pages;
- ``lookups``: the 404/403 lookups for views and the API.

Import the submodule you need; this package re-exports nothing, so importing a permission
never drags the models in.
"""
