package readme

import (
	"net/http"

	"github.com/gin-gonic/gin"

	gatekeepgin "github.com/gatekeep/gatekeep/adapters/gin"
	"github.com/gatekeep/gatekeep/config"
)

func ginRouter(st *config.Stack) http.Handler {
	r := gin.New()
	gatekeepgin.Mount(r, st.Auth) // the whole API
	notes := r.Group("/notes", gatekeepgin.Require(st.Auth))
	notes.GET("", func(c *gin.Context) {
		p, _ := gatekeepgin.Principal(c) // auth.FromContext(c.Request.Context()) works too
		c.JSON(http.StatusOK, gin.H{"owner": p.Username})
	})
	notes.DELETE("/:id", gatekeepgin.Authorize(st.Auth, "admin"), gatekeepgin.Handler(deleteNote))
	return r
}
