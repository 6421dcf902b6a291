// Package notify holds what the service's messages and events go through
// whatever carries them: the local outbox and event log that stand in for
// SNS and SES in development, the JSON form of domain events, and the
// redaction of send errors. The AWS senders are in snsnotify (SMS and the
// events topic) and sesnotify (e-mail), so that a function links only the
// SDK clients it uses.
package notify
