from ai_session.cli import main

raise SystemExit(main())
