// Package gin adapts gatekeep to github.com/gin-gonic/gin engines.
//
// Not implemented yet: see the adapters issue.
package gin
