"""The target (``Target``: where the bot and its services are) and the channels to it: db, bot API, VALR."""
