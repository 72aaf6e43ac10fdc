"""Form fields the form modules share."""


class ChoicesReadPerForm:
    """Make a model choice field read its rows through a function each time a form is built.

    Who may own a case and which playbook versions are current change while the site runs, and some
    of these functions query at once (``current_version_queryset``), so nothing may be read at import.
    Django deep-copies the declared fields into every new form: the copy is where the function runs.
    """

    def __init__(self, rows, **kwargs):
        self.rows = rows
        super().__init__(queryset=None, **kwargs)

    def __deepcopy__(self, memo):
        field = super().__deepcopy__(memo)
        field.queryset = self.rows()
        return field
