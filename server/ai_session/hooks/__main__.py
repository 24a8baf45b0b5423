from ai_session.hooks import main

raise SystemExit(main())
