from confgen.cli import main

raise SystemExit(main())
