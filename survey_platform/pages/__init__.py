"""Server-rendered pages: templates, the stylesheet, ES modules, interface strings and security headers.

Each area of pages (public, survey, desk, field) is a module of handlers that call the same services as the API;
:func:`survey_platform.pages.setup.page_config` gives ``create_app`` everything the pages need.
"""
