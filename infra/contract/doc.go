// Package contract has no code of its own. Its tests hold together the
// pieces that must agree but live apart: template.yaml (routes, IAM,
// alarms, dashboard), infra/openapi.yaml (the API contract frontends build
// on), the local runner, and the service's code (handlers, problem codes,
// texts, metric names and dimensions), so that none of them drifts from
// the others unnoticed.
package contract
