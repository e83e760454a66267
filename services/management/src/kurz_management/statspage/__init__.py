"""The public statistics page of a group with a statistics password (nonmemberSticsPwd):
`/stats/g/{grpIdx}` asks for the password, then shows the group's figures.

Hand-written HTML, CSS and a small vanilla script served from this package: no build
step, no outside network, a strict Content-Security-Policy."""
