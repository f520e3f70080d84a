"""Head office of a restaurant group: its venues, their enrolment, and the records they send up."""
