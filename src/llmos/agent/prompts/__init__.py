"""Prompt templates (Jinja2) for the browsing agent; rendered by `llmos.agent.prompting`."""
