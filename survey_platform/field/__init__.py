"""Field work: what interviewers and inspectors work on, venues they add, follow-up visits (the field app's API)."""
