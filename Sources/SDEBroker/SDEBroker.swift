import ArgumentParser

@main
struct SDEBroker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sde-broker",
        abstract: "Secure data environment query broker.",
        subcommands: [
            PolicyCommand.self,
            QuickstartCommand.self,
            DBCommand.self,
            DataCommand.self,
            AuditCommand.self,
            QueryCommand.self,
            ReleaseCommand.self,
            TokenCommand.self,
            ServeCommand.self,
        ]
    )
}
