"""HTTP plumbing shared by every resource: errors, bodies, negotiation, URLs."""
