"""Stage 1, from an announcement: a published result list or prose turned into records, with a review report."""
