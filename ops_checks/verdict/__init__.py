"""The verdict over item outcomes (GO only if every blocker passed) and the waivers that may excuse an item."""
