"""The core of the weekly tracker: configuration, the Tracker model and its arithmetic, and the store."""
