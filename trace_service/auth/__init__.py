"""Users, hashed passwords, personal API tokens, roles and scoping ("a producer sees its own")."""
