"""The console's screens: the queue, a ticket's detail, dialogs; forms/ and supervisor/ hold the rest."""
