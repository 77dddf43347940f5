"""What supervisors and arbitrators read: reports, the overdue panel and workload, the case file."""
