"""Domain services: the rules that span more than one row (linking, issuing, money)."""
