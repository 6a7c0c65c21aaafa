"""Team accounts: users, their roles per project, passwords, one-time links and two-factor codes."""
