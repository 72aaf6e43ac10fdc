"""Signal receivers of ``cases`` (sign-in events and the like), connected in CasesConfig.ready."""
