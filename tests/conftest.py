"""Settings every test shares."""

from hypothesis import settings

# Property tests judge behaviour, not speed (speed is measured in `make bench`): no per-example deadline,
# so a busy machine cannot fail a correct example.
settings.register_profile("fpls", deadline=None)
settings.load_profile("fpls")
