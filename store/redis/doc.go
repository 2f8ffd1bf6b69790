// Package redis is a gatekeep store on Redis (single node, Sentinel or
// Cluster) through github.com/redis/go-redis/v9; it is how gatekeep scales
// past one instance.
//
// Not implemented yet: see the Redis store issue.
package redis
