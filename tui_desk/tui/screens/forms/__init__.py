"""The console's forms: logging an interaction, opening a ticket by hand; both keep a draft as you type."""
