using Microsoft.JSInterop;
using T2IStudio.Web.Components.Shared;

namespace T2IStudio.Web.Tests.Components;

public sealed class JSInteropExtensionsTests
{
    [Theory]
    [InlineData(typeof(JSDisconnectedException))]
    [InlineData(typeof(TaskCanceledException))]
    public async Task A_closed_circuit_is_no_error_but_a_false_or_empty_answer(Type gone)
    {
        var js = new ThrowingRuntime((Exception)Activator.CreateInstance(gone, "gone")!);

        Assert.False(await js.TryInvokeVoidAsync("anything"));
        Assert.Equal((false, null), await js.TryInvokeAsync<string>("anything"));
        Assert.Null(await js.ImportModuleAsync("./Components/X.razor.js"));
    }

    [Fact]
    public async Task A_script_error_reaches_the_caller()
    {
        var js = new ThrowingRuntime(new JSException("boom"));

        await Assert.ThrowsAsync<JSException>(async () => await js.TryInvokeVoidAsync("anything"));
        await Assert.ThrowsAsync<JSException>(async () => await js.TryInvokeAsync<string>("anything"));
    }

    [Fact]
    public async Task An_answer_comes_back_as_it_is()
    {
        var js = new AnsweringRuntime("hello");

        Assert.True(await js.TryInvokeVoidAsync("anything"));
        Assert.Equal((true, "hello"), await js.TryInvokeAsync<string>("anything"));
    }

    private sealed class ThrowingRuntime(Exception exception) : IJSRuntime
    {
        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, object?[]? args) => ValueTask.FromException<TValue>(exception);

        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, CancellationToken cancellationToken, object?[]? args) => ValueTask.FromException<TValue>(exception);
    }

    private sealed class AnsweringRuntime(string answer) : IJSRuntime
    {
        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, object?[]? args) => InvokeAsync<TValue>(identifier, CancellationToken.None, args);

        // A void call asks for IJSVoidResult, which carries nothing.
        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, CancellationToken cancellationToken, object?[]? args) =>
            ValueTask.FromResult(typeof(TValue) == typeof(string) ? (TValue)(object)answer : default!);
    }
}
