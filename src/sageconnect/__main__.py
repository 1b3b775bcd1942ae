from sageconnect.cli import main

raise SystemExit(main())
