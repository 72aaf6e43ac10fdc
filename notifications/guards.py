"""The answers ``notifications`` gives to the case lifecycle's questions."""


def unnotified_customer_blockers(case) -> list[str]:
    """Block closing while any organisation in a declared breach has not received its notice."""
    if not case.breach_declared_at:
        return []
    waiting = [
        row.organization.name
        for row in case.affected_customers.select_related("organization")
        if row.is_breach and row.notified_at is None
    ]
    if not waiting:
        return []
    return [f"Breach notice not yet delivered to {', '.join(waiting)}."]
