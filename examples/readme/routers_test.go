package readme

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"

	chiadapter "github.com/gatekeep/gatekeep/adapters/chi"
	ginadapter "github.com/gatekeep/gatekeep/adapters/gin"
	"github.com/gatekeep/gatekeep/config"
)

func chiRouter(st *config.Stack) http.Handler {
	r := chi.NewRouter()
	chiadapter.Mount(r, st.Auth) // the whole API, as st.Auth.Mount does on a ServeMux
	r.Group(func(r chi.Router) {
		r.Use(st.Auth.Require) // auth's middleware is func(http.Handler) http.Handler
		r.Get("/notes", listNotes)
		r.With(st.Auth.Authorize("admin")).Delete("/notes/{id}", deleteNote)
	})
	return r
}

func ginRouter(st *config.Stack) http.Handler {
	r := gin.New()
	ginadapter.Mount(r, st.Auth) // the whole API
	notes := r.Group("/notes", ginadapter.Require(st.Auth))
	notes.GET("", func(c *gin.Context) {
		p, _ := ginadapter.Principal(c) // auth.FromContext(c.Request.Context()) works too
		c.JSON(http.StatusOK, gin.H{"owner": p.Username})
	})
	notes.DELETE("/:id", ginadapter.Authorize(st.Auth, "admin"), ginadapter.Handler(deleteNote))
	return r
}
