"""The verbs: where each is declared, and what it is for (the top-level help)."""

# Verbs that talk to no engine: no --context, no state.
ENGINELESS = ("completion",)

# verb -> (the module under dockervisor.cli that declares it, its summary)
VERBS = {
    "build": ("lifecycle", "build IMAGENAME from a Dockerfile and record how its containers run"),
    "pull": ("config", "make an image built elsewhere IMAGENAME's, and record how it runs"),
    "update": ("updates", "pull what the family's registry tag names now and start it, if it is new"),
    "check": ("updates", "say whether the family's registry has an update for it, changing nothing"),
    "timer": ("updates", "print (or install) a systemd timer and a crontab line that run `update`"),
    "config": ("config", "how the family's new containers run, and where that came from"),
    "start": ("lifecycle", "start new|last|stable IMAGENAME, or a container of a family by name"),
    "stop": ("lifecycle", "stop the family's running container (nothing running: exit 0)"),
    "stable": ("lifecycle", "mark the running container stable, or show which one is"),
    "unlock": ("lifecycle", "break the engine's lock on a family, left by a client that was killed"),
    "status": ("observe", "one line per family: what runs, health, uptime, image, ports, marks"),
    "list": ("observe", "list the families, or one family's containers or images"),
    "history": ("observe", "every build, start, stop, stable mark and rollback of a family"),
    "logs": ("observe", "the logs of the family's running container (or of one of its containers)"),
    "exec": ("observe", "run a command in the family's running container"),
    "run": ("observe", "run a one-off container of the family's image, in its setting"),
    "prune": ("housekeeping", "remove stopped containers beyond the newest N, and unused images"),
    "rm": ("housekeeping", "remove stopped containers of a family (never the running one)"),
    "forget": ("housekeeping", "retire a family: containers, images, state, history (not volumes)"),
    "adopt": ("housekeeping", "take over a family another state directory made on this engine"),
    "backup": ("data", "one archive of every mount point of the family (its data)"),
    "restore": ("data", "make the family's data exactly an archive's (a backup or a snapshot)"),
    "snapshots": ("data", "the family's snapshots of its data, newest first"),
    "completion": ("shell", "print a bash or zsh completion script"),
}
