// Package serve runs a checked campc program as a service (campc serve):
// Marketo's REST API over HTTP (identity, campaigns, leads, lists,
// program statuses, activities), its authentication and rate limits, and
// the scheduler that runs the program on the clock (waits that fall due,
// run at / run every / run now batch campaigns, the runs the API
// schedules). Every API call is one store transaction: the service's
// own tables (store.ServeTx: the integer ids it gives campaigns, people,
// lists, programs and forms) and every pass the engine makes for it
// commit together or not at all. A deploy (deploy.go) swaps the program
// at run time, between passes, moving the people who wait in one
// transaction. The clock is a vm.Clock, so tests drive it; the service
// reads no other time.
package serve
