"""Starts, watches and stops ShopDesk's processes: the one place that knows how they fit."""
