using T2IStudio.Cli;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
return await T2iCommand.RunAsync(args, Console.Out, Console.Error, cancel.Token);
