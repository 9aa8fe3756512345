from crm_cli.main import main

raise SystemExit(main())
