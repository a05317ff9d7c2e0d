"""Customer pages: the list, the profile form, the overview and its cards."""
